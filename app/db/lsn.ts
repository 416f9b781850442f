// PostgreSQL WAL positions ("16/B374D848") as comparable numbers. They are
// what read-your-writes and the lag measurement compare: a reader that has
// replayed up to position P has every commit the writer made before P.

export type Lsn = bigint;

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(text: string): Lsn | undefined {
  const m = LSN.exec(text.trim());
  if (!m) return undefined;
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export const maxLsn = (a: Lsn | undefined, b: Lsn | undefined): Lsn | undefined =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;

/** Beyond any real position: "not replayed by any reader yet, whatever it has". */
export const LSN_MAX: Lsn = 0xffff_ffff_ffff_ffffn;
