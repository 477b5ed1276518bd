/**
 * `items` as an array of exactly its length. V8 gives an array grown by `push` spare room (17
 * slots after the first push: 152 bytes to hold one item, 24 when fitted), and never gives it
 * back. Use it where a list built item by item is kept for as long as its object or config
 * generation lives: at 10,000 Services there are hundreds of thousands of them.
 */
export function fitted<T>(items: readonly T[]): T[] {
  return items.slice();
}
