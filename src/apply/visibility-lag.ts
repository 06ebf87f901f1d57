/**
 * How long Graph takes, in this tenant now, to show an object the run has just written to the
 * requests that depend on it (Entra is eventually consistent: a token created a moment ago answers
 * 404, a default method naming a phone registered a moment ago is refused). Learned from what those
 * requests were answered: one refused though sent `age` ms after what it depends on was done says
 * Graph needs longer than that; one taken says it needed no longer (for that object). The executor
 * holds a dependent's first send until then, and tries a refused one again at growing intervals: a
 * black-box test at 20,000 users with a 20 s lag saw each default method sent 3.7 times at once and
 * again (each refused send using write quota) and the run at a quarter of its speed.
 *
 * Only a delay before sending: what is sent, and when a refusal is final (the consistency window),
 * does not change.
 */
export class VisibilityLag {
  /** Ages refused, remembered for a while: the longest. */
  private readonly refusedAges: SlidingExtreme;
  /** Ages taken, remembered as long: the shortest. */
  private readonly shownAges: SlidingExtreme;

  /**
   * `windowMs`: the consistency window (a refusal later than that is final); the hold is at most
   * half of it, so that a refused first send still has tries left. What was seen is kept for the whole
   * run (all its waves) unless `memoryMs` is given: when it was forgotten after four windows, a
   * rehearsal's second wave (after a 429 wait longer than that) was refused as often as its first,
   * 1,948 refused writes for 500 users.
   */
  constructor(
    private readonly windowMs: number,
    memoryMs = Infinity,
  ) {
    this.refusedAges = new SlidingExtreme(memoryMs, (a, b) => a >= b);
    this.shownAges = new SlidingExtreme(memoryMs, (a, b) => a <= b);
  }

  /** A dependent was refused though sent `age` ms after what it depends on was done. */
  refused(age: number, now: number): void {
    this.refusedAges.add(Math.max(0, age), now);
  }

  /** A dependent sent `age` ms after what it depends on was done (within the window) was taken. */
  shown(age: number, now: number): void {
    this.shownAges.add(Math.max(0, age), now);
  }

  /** The longest age at which a remembered dependent was refused (undefined: none was). */
  longestRefused(now: number): number | undefined {
    return this.refusedAges.get(now);
  }

  /**
   * How long after what it depends on was done a dependent is first sent, once one was refused (0
   * before: a tenant with no lag is not slowed down): a little more than the longest age refused,
   * and at least the shortest age taken (Graph showed nothing sooner; the longest refused alone
   * undershoots when the tries that taught it were far apart), at most half the window. Graph's
   * lag varies from object to object: one refused at the hold raises it.
   */
  holdMs(now: number): number {
    const longest = this.refusedAges.get(now);
    if (longest === undefined) return 0;
    return Math.min(this.windowMs / 2, Math.max(longest * 1.15 + this.stepMs(1) / 2, this.shownAges.get(now) ?? 0));
  }

  /** The wait before the `tries`th try of a dependent refused again (growingStep). */
  stepMs(tries: number): number {
    return growingStep(this.windowMs, tries);
  }
}

/**
 * The `tries`th of waits that grow within a consistency window: a sixtieth of the window (at most
 * 500 ms), doubled each time (0.5, 1, 2, 4, 8, 16 s in a 30 s window). A tenant that takes seconds
 * to show an object is not asked again and again, and one that takes a moment is not kept waiting long.
 */
export function growingStep(windowMs: number, tries: number): number {
  return Math.min(500, windowMs / 60) * 2 ** Math.max(0, tries - 1);
}

/** The greatest (by `beats`) of the values added in the last `memoryMs`, kept in a monotonic queue. */
class SlidingExtreme {
  /** Oldest first; each beats every value after it (one beaten by a later value says nothing more). */
  private readonly kept: { at: number; value: number }[] = [];

  constructor(
    private readonly memoryMs: number,
    private readonly beats: (a: number, b: number) => boolean,
  ) {}

  add(value: number, now: number): void {
    this.forget(now);
    while (this.kept.length > 0 && this.beats(value, this.kept[this.kept.length - 1]!.value)) this.kept.pop();
    this.kept.push({ at: now, value });
  }

  get(now: number): number | undefined {
    this.forget(now);
    return this.kept[0]?.value;
  }

  private forget(now: number): void {
    while (this.kept.length > 0 && this.kept[0]!.at < now - this.memoryMs) this.kept.shift();
  }
}
