/** Kept in step with package.json by the release script (checked by a test). */
export const VERSION = '0.1.0';
