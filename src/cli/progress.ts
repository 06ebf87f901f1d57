/**
 * Progress on stderr: one line rewritten in place on a terminal, a line every few seconds otherwise
 * (logs, CI). Never on stdout, which carries the command's output.
 */
export class Progress {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;
  private written = false;

  constructor(
    private readonly label: string,
    private readonly intervalMs = 5000,
  ) {}

  update(done: number, total: number, extra = ''): void {
    const now = Date.now();
    const text = `${this.label}: ${done}/${total}${extra ? ` ${extra}` : ''}`;
    if (this.tty) {
      if (now - this.last < 100 && done < total) return;
      process.stderr.write(`\r\u001b[K${text}`);
      this.written = true;
    } else if (now - this.last >= this.intervalMs || done === total) {
      process.stderr.write(`${text}\n`);
    } else return;
    this.last = now;
  }

  done(): void {
    if (this.tty && this.written) process.stderr.write('\n');
  }
}
