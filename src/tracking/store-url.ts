// Run store URLs (postgres://user:password@host:port/database) as they may be shown: the password never leaves the
// process in a message, a log line or a run record.

/** The schemes of a PostgreSQL run store, as libpq accepts them. */
export const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/** Any `scheme://` prefix: a store written as a URL rather than as a folder. */
export const isStoreUrl = (store: string): boolean => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(store);

export const isPostgresUrl = (store: string): boolean => POSTGRES_URL.test(store);

const USERINFO_PASSWORD = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/;
const QUERY_PASSWORD = /([?&](?:password|sslpassword)=)[^&#]*/gi;

/** `url` with its password (in the user part or as a `password=` parameter) replaced by `***`. */
export function maskStoreUrl(url: string): string {
  return url.replace(USERINFO_PASSWORD, '$1:***@').replace(QUERY_PASSWORD, '$1***');
}

/** Every URL inside `text` masked: error messages of the driver and command lines may quote one. */
export function maskUrlsIn(text: string): string {
  return text.replace(/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s'"`]+/g, (url) => maskStoreUrl(url));
}

/** A command line to record with a run: an argument holding a store URL (or KILN_STORE=…) keeps no password. */
export function maskCommand(argv: readonly string[]): string[] {
  return argv.map((arg) => maskUrlsIn(arg));
}
