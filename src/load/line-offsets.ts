/**
 * Byte offsets where lines start, plus the body length at the end (so line i is
 * `body.subarray(offsets[i], offsets[i + 1])`). A final line without `\n` still counts; blank lines
 * stay attached to the line before them (a request of only blank lines would be refused by 2.x as
 * "writing requires points"). Lines are cut at every `\n`: promflux's encoder never leaves a raw
 * newline inside a value.
 */
export function lineOffsets(body: Buffer): number[] {
  const offsets = [0];
  let pos = 0;
  let seenContent = false;
  while (pos < body.length) {
    const nl = body.indexOf(0x0a, pos);
    const end = nl === -1 ? body.length : nl + 1;
    if (body[pos] !== 0x0a) {
      if (seenContent) offsets.push(pos);
      seenContent = true;
    }
    pos = end;
  }
  if (seenContent) offsets.push(body.length);
  return offsets;
}

/** Lines [from, to) of `body` as text, without their line endings (for the dead-letter file). */
export function linesOf(
  body: Buffer,
  offsets: readonly number[],
  from: number,
  to: number,
): string[] {
  const lines: string[] = [];
  for (let i = from; i < to; i++) {
    let end = offsets[i + 1]!;
    while (end > offsets[i]! && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
    lines.push(body.toString('utf8', offsets[i], end));
  }
  return lines;
}
