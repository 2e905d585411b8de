/** What the spigot parameter's value means; shared by the drain and the CLI. */
export type SpigotState = 'open' | 'closed';

export interface ParsedSpigotState {
  readonly state: SpigotState;
  /** False when the value was not recognised and the spigot fails safe to closed. */
  readonly recognised: boolean;
}

const OPEN = new Set(['open', 'on']);
const CLOSED = new Set(['closed', 'off']);

/** `open`/`closed`, case-insensitive, with `on`/`off` as aliases. Anything else is closed. */
export function parseSpigotState(value: string | undefined): ParsedSpigotState {
  const normalised = (value ?? '').trim().toLowerCase();
  if (OPEN.has(normalised)) return { state: 'open', recognised: true };
  if (CLOSED.has(normalised)) return { state: 'closed', recognised: true };
  return { state: 'closed', recognised: false };
}

/** SSM parameter descriptions are limited to 1024 characters. */
export const MAX_DESCRIPTION_LENGTH = 1024;
