// Run store URLs: a folder or a URL, PostgreSQL or not, and (re-exported) how they are shown with the password masked.

/** The schemes of a PostgreSQL run store, as libpq accepts them. */
export const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/** Any `scheme://` prefix: a store written as a URL rather than as a folder. */
export const isStoreUrl = (store: string): boolean => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(store);

export const isPostgresUrl = (store: string): boolean => POSTGRES_URL.test(store);

/** `url` with its password masked (see ../url-secrets.ts, which also masks code frames and command lines). */
export { maskUrlPassword as maskStoreUrl, maskUrlsIn, maskCommand } from '../url-secrets.ts';
