// Passwords inside URLs (postgres://user:password@host/db, …?password=…) masked, wherever a URL may be shown: messages,
// code frames of kiln.yaml, recorded command lines. The password never leaves the process.

// The user part ends at the last '@' (a password is often not percent-encoded, and may hold '@' or ':').
const USERINFO_PASSWORD = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#:@\s]*):.*@(?=[^@]*$)/;
const QUERY_PASSWORD = /([?&](?:password|sslpassword)=)[^&#]*/gi;

/** `url` with its password (in the user part or as a `password=` parameter) replaced by `***`. */
export function maskUrlPassword(url: string): string {
  return url.replace(USERINFO_PASSWORD, '$1:***@').replace(QUERY_PASSWORD, '$1***');
}

/** Every URL inside `text` masked: error messages of a driver, a line of YAML and command lines may quote one. */
export function maskUrlsIn(text: string): string {
  return text.replace(/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s'"`]+/g, (url) => maskUrlPassword(url));
}

/** A command line to record with a run: an argument holding a store URL (or KILN_STORE=…) keeps no password. */
export function maskCommand(argv: readonly string[]): string[] {
  return argv.map((arg) => maskUrlsIn(arg));
}
