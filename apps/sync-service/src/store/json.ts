/**
 * jsonb values are sent as JSON text and cast in SQL (`$1::jsonb`): `pg` would turn a JavaScript
 * array into a PostgreSQL array, and PGlite and `pg` serialise objects differently otherwise.
 */
export function toJsonParameter(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError("A jsonb value must be serialisable to JSON");
  return text;
}

export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

export function toOptionalDate(value: unknown): Date | undefined {
  return value === null || value === undefined ? undefined : toDate(value);
}
