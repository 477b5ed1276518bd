/**
 * `target.push(...items)` without the spread: a spread passes every item as an argument on the
 * stack, and an array of a few hundred thousand items (a big manifest file, its problems)
 * overflows it with a RangeError. Use this wherever `items` can be as large as the input.
 */
export function append<T>(target: T[], items: Iterable<T>): void {
  for (const item of items) target.push(item);
}
