import type { Sink, SinkContext, SinkWriter } from "../../api/sink.ts";
import { encodeRecord } from "./encoding.ts";

/**
 * Flink's print(): every record is visible the moment it is written, so a replay after a
 * restore writes it again. It is here for contrast: under crashes it duplicates output even
 * with EXACTLY_ONCE checkpointing, and the harness must catch that.
 */
export class PrintSink<T> implements Sink<T> {
  readonly sinkName = "Print";
  readonly transactional = false;
  constructor(private readonly prefix?: string, private readonly writeLine: (line: string) => void = (l) => process.stdout.write(l + "\n")) {}

  createWriter(ctx: SinkContext): SinkWriter<T> {
    const tag = this.prefix !== undefined ? `${this.prefix}:` : "";
    const pre = ctx.parallelism > 1 ? `${tag}${ctx.subtaskIndex + 1}> ` : tag ? `${tag} ` : "";
    const write = this.writeLine;
    return {
      write: (v) => write(pre + encodeRecord(v)),
      prepareCommit: () => [],
      commit: () => {},
      recover: () => {},
      close: () => {},
    };
  }
}
