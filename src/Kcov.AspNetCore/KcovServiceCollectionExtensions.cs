using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kcov.AspNetCore;

/// <summary>Registration of Kcov.AspNetCore's services, in the usual <c>builder.Services.AddX()</c> style.</summary>
public static class KcovServiceCollectionExtensions
{
    /// <summary>
    /// Adds the control endpoint, run as a hosted service when <see cref="KcovOptions.ControlEndpoint"/>
    /// (configuration "Kcov:ControlEndpoint") or <c>KCOV_CONTROL</c> names it. Add the request
    /// middleware with <see cref="KcovApplicationBuilderExtensions.UseKcov"/>.
    /// </summary>
    public static IServiceCollection AddKcov(this IServiceCollection services, Action<KcovOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<KcovOptions>().BindConfiguration("Kcov");
        if (configure is not null)
            options.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, KcovControlService>());
        return services;
    }

    /// <summary>Adds a <see cref="KcovWorkQueue{T}"/> of <paramref name="capacity"/> items as a singleton.</summary>
    public static IServiceCollection AddKcovWorkQueue<T>(this IServiceCollection services, int capacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(provider => new KcovWorkQueue<T>(capacity, provider.GetRequiredService<ILogger<KcovWorkQueue<T>>>()));
        return services;
    }
}
