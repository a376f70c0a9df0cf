/** The `code` a function fails with, or 'no error': lets failure tables assert which error, not just that one happened. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? `untyped: ${(e as Error).message}`;
  }
  return 'no error';
}
