/** Set at build time by esbuild (package.json version); "0.0.0-dev" when running from source. */
declare const __OHA_VERSION__: string | undefined;
export const VERSION: string = typeof __OHA_VERSION__ === 'string' ? __OHA_VERSION__ : '0.0.0-dev';
