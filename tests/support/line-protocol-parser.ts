/**
 * A line-protocol tokenizer that follows InfluxDB's own scanner (models/points.go): a backslash
 * always consumes the next byte; tag keys/values and field keys are then unescaped for `\,` `\=`
 * `\ ` only (measurements for `\,` `\ `), so other backslashes stay literal.
 * `vmUnescape` additionally turns `\\` into `\`, as VictoriaMetrics' parser does.
 */
export interface ParsedLine {
  measurement: string;
  tags: Array<[string, string]>;
  fieldKey: string;
  fieldValue: string;
  timestamp: string | undefined;
}

export function parseLine(line: string, opts: { vmUnescape?: boolean } = {}): ParsedLine {
  let i = 0;
  const readUntil = (stops: string): string => {
    const start = i;
    while (i < line.length && !stops.includes(line[i]!)) i += line[i] === '\\' ? 2 : 1;
    if (i > line.length) throw new Error(`dangling escape in ${JSON.stringify(line)}`);
    return line.slice(start, i);
  };
  const unescape = (raw: string, specials: string): string => {
    let out = raw;
    for (const c of specials) out = out.split('\\' + c).join(c);
    if (opts.vmUnescape) out = out.split('\\\\').join('\\');
    return out;
  };
  const measurement = unescape(readUntil(', '), ', ');
  const tags: Array<[string, string]> = [];
  while (line[i] === ',') {
    i++;
    const key = readUntil('=, ');
    if (line[i] !== '=') throw new Error(`tag without "=" in ${JSON.stringify(line)}`);
    i++;
    const value = readUntil(', ');
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
