/** Reading booleans and error messages, the same way everywhere. */

/** The words ocf_is_true accepts (any case, blanks trimmed), and their negations. */
export const TRUE_WORDS = ['yes', 'true', '1', 'on', 'y', 't'] as const;
export const FALSE_WORDS = ['no', 'false', '0', 'off', 'n', 'f'] as const;

/** ocf_is_true: yes, true, 1, on, y, t (any case). Agent parameters, fence options, environment switches. */
export function isTrue(v: string | undefined | null): boolean {
  if (v === undefined || v === null) return false;
  return (TRUE_WORDS as readonly string[]).includes(String(v).trim().toLowerCase());
}

/** A word isTrue or its negation knows (OCF boolean parameter validation). */
export function isBooleanWord(v: string): boolean {
  const w = v.trim().toLowerCase();
  return (TRUE_WORDS as readonly string[]).includes(w) || (FALSE_WORDS as readonly string[]).includes(w);
}

/**
 * A metadata tag set to true, as OpenStack's own tags are read (flavor extra spec evacuable=true, aggregate or image
 * property): the string "true" in any case, blanks trimmed; nothing else.
 */
export function isTrueTag(v: unknown): boolean {
  return typeof v === 'string' && v.trim().toLowerCase() === 'true';
}

/** The message of anything thrown. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
