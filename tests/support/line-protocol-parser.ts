/**
 * Line-protocol tokenizers for one line, as the two real servers here read it (both checked
 * against the binaries):
 * - `influx` (InfluxDB 1.x/2.x, models/points.go): a delimiter is escaped when the byte before it is
 *   a backslash, however many backslashes precede it; tag keys/values and field keys are then
 *   unescaped by removing the backslash of each `\,` `\=` `\ ` (measurements: `\,` `\ `), so every
 *   other backslash stays literal. A line whose tag value ends in a backslash is malformed.
 * - `vm` (VictoriaMetrics): a delimiter is escaped by an odd number of backslashes before it;
 *   unescaping turns `\\` into `\` and `\,` `\=` `\ ` into the character, other backslashes stay.
 */
export interface ParsedLine {
  measurement: string;
  tags: Array<[string, string]>;
  fieldKey: string;
  fieldValue: string;
  timestamp: string | undefined;
}

export type Dialect = 'influx' | 'vm';

export function parseLine(line: string, dialect: Dialect = 'influx'): ParsedLine {
  let i = 0;
  const escaped = (at: number): boolean => {
    if (dialect === 'influx') return line[at - 1] === '\\';
    let n = 0;
    while (line[at - 1 - n] === '\\') n++;
    return n % 2 === 1;
  };
  const readUntil = (stops: string): string => {
    const start = i;
    while (i < line.length && !(stops.includes(line[i]!) && !escaped(i))) i++;
    return line.slice(start, i);
  };
  const unescape = (raw: string, specials: string): string => {
    if (dialect === 'influx') {
      let out = raw;
      for (const c of specials) out = out.split('\\' + c).join(c);
      return out;
    }
    return raw.replace(/\\([\s\S])/g, (pair, c: string) =>
      c === '\\' || specials.includes(c) ? c : pair,
    );
  };
  const measurement = unescape(readUntil(', '), ', ');
  const tags: Array<[string, string]> = [];
  while (line[i] === ',') {
    i++;
    const key = readUntil('=, ');
    if (line[i] !== '=') throw new Error(`tag without "=" in ${JSON.stringify(line)}`);
    i++;
    const value = readUntil(dialect === 'influx' ? '=, ' : ', ');
    if (line[i] === '=') throw new Error(`invalid tag format in ${JSON.stringify(line)}`);
    if (value === '' || key === '') throw new Error(`empty tag in ${JSON.stringify(line)}`);
    tags.push([unescape(key, ',= '), unescape(value, ',= ')]);
  }
  if (line[i] !== ' ') throw new Error(`missing fields in ${JSON.stringify(line)}`);
  i++;
  const fieldKey = unescape(readUntil('='), ',= ');
  i++;
  const fieldValue = readUntil(' ');
  const timestamp = line[i] === ' ' ? line.slice(i + 1) : undefined;
  return { measurement, tags, fieldKey, fieldValue, timestamp };
}
