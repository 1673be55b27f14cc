using Microsoft.AspNetCore.Builder;

namespace Kcov.AspNetCore;

/// <summary>The request pipeline's side of Kcov.AspNetCore.</summary>
public static class KcovApplicationBuilderExtensions
{
    /// <summary>
    /// Adds <see cref="KcovRequestMiddleware"/>: requests with a <c>kcov-handle</c> header run as
    /// remote sections of their client's common handle. Call it first, before exception handlers.
    /// </summary>
    public static IApplicationBuilder UseKcov(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<KcovRequestMiddleware>();
    }
}
