// Failure chains (workflow -> activity -> application failure) read as their innermost message: what a user needs.

/** The innermost message of an error's `cause` chain. */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && (e.cause as { message?: string } | undefined)?.message) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
