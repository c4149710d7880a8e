// The free-address index of one scope's pool, and the queue of lease times that run out.
// Allocation used to walk the pool from a cursor (up to ~65k steps per DISCOVER on a /16 once it
// filled up); here "next free at or after the cursor" is a descent through a bitmap tree whose
// levels summarise 32 words each: O(log32 n), 4 levels for a /8.

/** A set of addresses first..last (inclusive) with "next member at or after a" in O(log32 n). */
export class AddressPool {
  readonly first: number;
  readonly last: number;
  /** levels[0]: one bit per address; levels[k+1]: one bit per non-zero word of levels[k]. */
  private readonly levels: Uint32Array[] = [];
  private count = 0;

  constructor(first: number, last: number) {
    this.first = first;
    this.last = last;
    let n = last - first + 1;
    do {
      const words = Math.ceil(n / 32);
      this.levels.push(new Uint32Array(words));
      n = words;
    } while (n > 1);
  }

  get size(): number {
    return this.count;
  }

  contains(addr: number): boolean {
    return addr >= this.first && addr <= this.last;
  }

  has(addr: number): boolean {
    if (!this.contains(addr)) return false;
    const i = addr - this.first;
    return (this.levels[0]![i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(addr: number): void {
    if (!this.contains(addr) || this.has(addr)) return;
    this.count++;
    let i = addr - this.first;
    for (const level of this.levels) {
      const w = i >>> 5;
      const was = level[w]!;
      level[w] = was | (1 << (i & 31));
      if (was !== 0) return; // the summaries above already show this word
      i = w;
    }
  }

  delete(addr: number): void {
    if (!this.has(addr)) return;
    this.count--;
    let i = addr - this.first;
    for (const level of this.levels) {
      const w = i >>> 5;
      level[w] = level[w]! & ~(1 << (i & 31));
      if (level[w] !== 0) return; // the word still has members: summaries unchanged
      i = w;
    }
  }

  /** The lowest member >= addr, or undefined. */
  nextFrom(addr: number): number | undefined {
    if (this.count === 0 || addr > this.last) return undefined;
    let i = Math.max(addr, this.first) - this.first;
    // Climb while the rest of the current word is empty, then descend along lowest set bits.
    let k = 0;
    for (; k < this.levels.length; k++) {
      const level = this.levels[k]!;
      const w = i >>> 5;
      if (w >= level.length) return undefined;
      const bits = level[w]! & (~0 << (i & 31));
      if (bits !== 0) {
        i = (w << 5) + ctz(bits);
        break;
      }
      i = w + 1; // first bit of the next word, one level up
    }
    if (k === this.levels.length) return undefined;
    for (; k > 0; k--) {
      const below = this.levels[k - 1]!;
      i = (i << 5) + ctz(below[i]!);
    }
    return this.first + i;
  }

  /** The lowest member at or after `from`, wrapping round to `first`. */
  nextWrapping(from: number): number | undefined {
    return this.nextFrom(from) ?? this.nextFrom(this.first);
  }
}

/** Count of trailing zero bits of a non-zero 32-bit word. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** A time-ordered queue (binary min-heap) of "address `addr` is due at `at` ms". */
export class ExpiryQueue<T> {
  private readonly at: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.at.length;
  }

  push(at: number, item: T): void {
    let i = this.at.length;
    this.at.push(at);
    this.items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p]! <= at) break;
      this.at[i] = this.at[p]!;
      this.items[i] = this.items[p]!;
      i = p;
    }
    this.at[i] = at;
    this.items[i] = item;
  }

  /** The earliest item if it is due at or before `now`, removed from the queue. */
  popDue(now: number): T | undefined {
    if (this.at.length === 0 || this.at[0]! > now) return undefined;
    const top = this.items[0]!;
    const lastAt = this.at.pop()!;
    const lastItem = this.items.pop()!;
    const n = this.at.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && this.at[c + 1]! < this.at[c]!) c++;
        if (this.at[c]! >= lastAt) break;
        this.at[i] = this.at[c]!;
        this.items[i] = this.items[c]!;
        i = c;
      }
      this.at[i] = lastAt;
      this.items[i] = lastItem;
    }
    return top;
  }

  /** Keeps only the items `keep` accepts (stale entries left behind by renewals), re-heaped. */
  filter(keep: (item: T, at: number) => boolean): void {
    const pairs: [number, T][] = [];
    for (let i = 0; i < this.at.length; i++) if (keep(this.items[i]!, this.at[i]!)) pairs.push([this.at[i]!, this.items[i]!]);
    this.at.length = 0;
    this.items.length = 0;
    pairs.sort((a, b) => a[0] - b[0]); // a sorted array is a valid heap
    for (const [at, item] of pairs) {
      this.at.push(at);
      this.items.push(item);
    }
  }
}
