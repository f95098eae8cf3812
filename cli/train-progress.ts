// The CLI's live progress on stderr: a bar on a terminal (none otherwise, so logs hold only
// lines), with log lines printed above it.
import cliProgress from 'cli-progress';

export class TrainProgress {
  private readonly bars: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | null = null;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    format: string,
    private readonly quiet = false,
  ) {
    this.bars = new cliProgress.MultiBar(
      { format, hideCursor: true, noTTYOutput: false, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
  }

  get shown(): boolean {
    return this.bar !== null;
  }

  start(total: number, value: number, payload: Record<string, string>): void {
    if (this.quiet || !this.tty || this.bar) return;
    this.bar = this.bars.create(total, value, payload);
  }

  update(value: number | null, payload: Record<string, string>): void {
    if (!this.bar) return;
    if (value === null) this.bar.update(payload);
    else this.bar.update(value, payload);
  }

  /** A line of the training log: above the bar when there is one. */
  line(text: string): void {
    if (this.quiet) return;
    if (this.bar) this.bars.log(`${text}\n`);
    else process.stderr.write(`${text}\n`);
  }

  stop(): void {
    if (!this.bar) return;
    this.bars.update(); // prints lines still waiting for the next redraw
    this.bars.stop();
    this.bar = null;
  }
}
