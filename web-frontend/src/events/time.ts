/** `<input type="datetime-local">` values are local times without a zone: convert to ISO UTC. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
