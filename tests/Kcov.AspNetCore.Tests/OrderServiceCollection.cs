namespace Kcov.AspNetCore.Tests;

/// <summary>The tests that share one running OrderService (<see cref="OrderServiceFixture"/>).</summary>
[CollectionDefinition("order service")]
public sealed class OrderServiceCollection : ICollectionFixture<OrderServiceFixture>;
