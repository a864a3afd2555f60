/** ASCII of 00..99, two bytes each: integers are written two digits per division. */
export const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) =>
  i % 2 === 0 ? 48 + Math.floor(i / 20) : 48 + (((i - 1) / 2) % 10),
);
