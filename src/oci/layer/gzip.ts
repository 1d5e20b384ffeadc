import { availableParallelism } from "node:os";
import { constants, crc32, deflateRaw, deflateRawSync, type ZlibOptions } from "node:zlib";

/** Options for {@link ParallelGzip}. */
export interface ParallelGzipOptions {
  /** zlib level 0-9. Default 6, the level BuildKit and Docker use (Go's `gzip.DefaultCompression`). */
  readonly level?: number;
  /** Blocks compressed at the same time. Default: CPU count, at least 2, at most 4 (libuv's default pool). */
  readonly concurrency?: number;
  /**
   * The caller computes the CRC-32 of the input (on another thread, with the
   * tar's SHA-256) and passes it to {@link ParallelGzip.end}. Default false.
   */
  readonly externalCrc?: boolean;
  /**
   * Recycle input blocks: a chunk returned by {@link ParallelGzip.write} or
   * {@link ParallelGzip.end} is then valid only until the next call of
   * either (stored blocks are slices of the input block, which a later call
   * refills). Default false: chunks stay valid for good.
   */
  readonly reuseBlocks?: boolean;
  /**
   * Input blocks live in shared memory (SharedArrayBuffer), so other
   * threads can read them where they are (the layer writer hashes them on
   * workers, see OffThreadHash). Default false.
   */
  readonly sharedBlocks?: boolean;
  /**
   * Called with each input block, in order, as it is submitted for
   * compression: together they are exactly the input. The view stays
   * unchanged until the block is recycled (see `canReuse`).
   */
  readonly onBlock?: (input: Buffer) => void;
  /**
   * With reuseBlocks: whether a block's buffer may be refilled, asked
   * before each reuse (default: always). Lets other readers of the block,
   * such as a hash worker fed by `onBlock`, finish first.
   */
  readonly canReuse?: (block: Buffer) => boolean;
}

/**
 * Input block size. Part of the output format: changing it changes every
 * layer digest, so it is a constant, not an option.
 */
const BLOCK = 1 << 20;
/** Deflate's window: each block is primed with the previous block's last 32 KiB. */
const WINDOW = 32 * 1024;

/**
 * A deterministic, multi-core gzip compressor in the style of pigz: the
 * input is cut into fixed 1 MiB blocks, each deflated on libuv's thread pool
 * with the previous 32 KiB as preset dictionary and ended by a sync flush
 * (so blocks end on a byte boundary and concatenate into one deflate
 * stream), the last one with `Z_FINISH`. Output bytes depend only on the
 * input and the level — never on scheduling — so layer digests are
 * reproducible; the ratio is within a fraction of a percent of serial gzip.
 * Blocks that look incompressible are stored rather than deflated, and
 * mostly incompressible ones deflated with run-length matches only (see
 * {@link sampleBlock}).
 *
 * Why not `zlib.createGzip()`: a single deflate stream uses one core, about
 * 30 MB/s on incompressible data on the reference 2-core machine; this
 * keeps both cores busy while the main thread tars and hashes.
 *
 * Usage: `write()` returns the compressed chunks that became ready, in
 * order; `end()` returns the rest including the gzip trailer.
 */
export class ParallelGzip {
  private readonly level: number;
  private readonly concurrency: number;
  private readonly externalCrc: boolean;
  private readonly reuseBlocks: boolean;
  private readonly sharedBlocks: boolean;
  private readonly onBlock: ((input: Buffer) => void) | undefined;
  private readonly canReuse: ((block: Buffer) => boolean) | undefined;
  private readonly pending: { readonly block: Buffer; readonly job: Promise<Buffer | Buffer[]> }[] = [];
  /** With reuseBlocks: blocks whose output was returned, oldest first (see {@link recycle}). */
  private readonly returned: Buffer[] = [];
  /** With reuseBlocks: blocks free to be filled again. */
  private readonly spare: Buffer[] = [];
  private block: Buffer;
  private fill = 0;
  private dictionary: Buffer | undefined;
  /** What the previous block looked like (see {@link sampleBlock}). */
  private lastKind: BlockKind = "text";
  private crc = 0;
  private total = 0;
  private headerDone = false;
  private ended = false;

  /** @throws RangeError for a level outside 0-9. */
  constructor(options: ParallelGzipOptions = {}) {
    const level = options.level ?? 6;
    if (!Number.isInteger(level) || level < 0 || level > 9) {
      throw new RangeError(`gzip level must be an integer 0-9, got ${level}`);
    }
    this.level = level;
    this.concurrency = options.concurrency ?? Math.min(4, Math.max(2, availableParallelism()));
    this.externalCrc = options.externalCrc ?? false;
    this.reuseBlocks = options.reuseBlocks ?? false;
    this.sharedBlocks = options.sharedBlocks ?? false;
    this.onBlock = options.onBlock;
    this.canReuse = options.canReuse;
    this.block = this.newBlock();
  }

  /**
   * Feeds uncompressed bytes; returns compressed output that is ready
   * (possibly none). `data` is copied, but only by the time the returned
   * promise settles: do not reuse its buffer before that.
   */
  async write(data: Uint8Array): Promise<Buffer[]> {
    if (this.ended) throw new Error("ParallelGzip: write after end");
    this.recycle();
    if (!this.externalCrc) this.crc = crc32(data, this.crc);
    this.total += data.byteLength;
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < data.byteLength) {
      const n = Math.min(BLOCK - this.fill, data.byteLength - offset);
      this.block.set(data.subarray(offset, offset + n), this.fill);
      this.fill += n;
      offset += n;
      if (this.fill === BLOCK) {
        this.submit(false);
        // Back-pressure: never more than `concurrency` blocks in flight.
        while (this.pending.length >= this.concurrency) await this.take(out);
      }
    }
    return this.withHeader(out);
  }

  /**
   * Compresses what is left and returns the remaining output, ending with
   * the gzip trailer.
   * @param crc the CRC-32 of all input, or a function giving it once the
   *   last block was handed to `onBlock`: required with `externalCrc`,
   *   ignored without.
   */
  async end(crc?: number | (() => Promise<number>)): Promise<Buffer[]> {
    if (this.ended) throw new Error("ParallelGzip: end called twice");
    if (this.externalCrc && crc === undefined) throw new Error("ParallelGzip: end needs the input's CRC-32 (externalCrc)");
    this.recycle();
    this.ended = true;
    this.submit(true);
    if (this.externalCrc) this.crc = typeof crc === "function" ? await crc() : (crc as number);
    const out: Buffer[] = [];
    while (this.pending.length > 0) await this.take(out);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.total % 2 ** 32, 4);
    out.push(trailer);
    return this.withHeader(out);
  }

  /** Drops in-flight work (their results are ignored); for error paths. */
  abandon(): void {
    this.ended = true;
    this.pending.length = 0;
    this.returned.length = 0;
    this.spare.length = 0;
  }

  /** Waits for the oldest block in flight and appends its output to `out`. */
  private async take(out: Buffer[]): Promise<void> {
    const { block, job } = this.pending.shift()!;
    pushAll(out, await job);
    if (this.reuseBlocks) this.returned.push(block);
  }

  /**
   * At the start of a call, when the caller is done with everything returned
   * so far: every returned block but the newest is free again (once
   * `canReuse` agrees, when given). The newest
   * stays out: its last 32 KiB are still `dictionary`, which the block after
   * it (perhaps still being filled) hands to zlib when it is submitted. So
   * the rule does not depend on when zlib copies a dictionary.
   *
   * Why: each block used to be a fresh 1 MiB allocation, and on a VM whose
   * freed memory goes back to the host, first touches of new memory cost
   * ~130-300 ms per 256 MiB of input (measured: filling fresh 1 MiB buffers
   * against refilling 16 of them: 130-300 ms against 10 ms).
   */
  private recycle(): void {
    // Blocks `canReuse` refuses stay in `returned` (in order) and are asked again next time.
    const newest = this.returned.length - 1;
    let kept = 0;
    for (let i = 0; i < newest; i++) {
      const b = this.returned[i]!;
      if (this.canReuse === undefined || this.canReuse(b)) this.spare.push(b);
      else this.returned[kept++] = b;
    }
    if (newest > 0) {
      this.returned[kept++] = this.returned[newest]!;
      this.returned.length = kept;
    }
  }

  /** A fresh input block: in shared memory with `sharedBlocks`. */
  private newBlock(): Buffer {
    return this.sharedBlocks ? Buffer.from(new SharedArrayBuffer(BLOCK)) : Buffer.allocUnsafe(BLOCK);
  }

  private withHeader(out: Buffer[]): Buffer[] {
    if (this.headerDone) return out;
    this.headerDone = true;
    // Fixed 10-byte header: no name, no mtime (0), OS = 255 "unknown" as Go
    // writes it, so the bytes do not depend on the host that built the layer.
    const xfl = this.level === 9 ? 2 : this.level === 1 ? 4 : 0;
    return [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 0xff]), ...out];
  }

  private submit(final: boolean): void {
    const input = this.block.subarray(0, this.fill);
    const options: ZlibOptions = {
      level: this.level,
      finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      // One output buffer per block: fewer round trips between pool and main thread.
      chunkSize: BLOCK + (BLOCK >> 4) + 1024,
    };
    if (this.dictionary !== undefined) options.dictionary = this.dictionary;
    this.onBlock?.(input);
    const kind = this.level > 0 && input.length >= SAMPLE_MIN_BLOCK ? sampleBlock(input, this.lastKind === "random") : "text";
    this.lastKind = kind;
    if (kind === "mostly-random") options.strategy = constants.Z_RLE;
    const job = kind === "random" ? Promise.resolve(storedBlocks(input, final)) : deflateAsync(input, options);
    // A later block may fail while an earlier one is awaited; it is awaited
    // (and rethrown) in its turn, so only silence the "unhandled" report.
    job.catch(() => undefined);
    this.pending.push({ block: this.block, job });
    if (!final) {
      // The next block's dictionary is this block's tail; the block buffer is
      // handed to zlib, so the next one is another buffer (a recycled one
      // once it is no longer read, see recycle()).
      this.dictionary = input.subarray(BLOCK - WINDOW);
      this.block = this.spare.pop() ?? this.newBlock();
      this.fill = 0;
    }
  }
}

/** Appends a block's output (one buffer, or the parts of stored blocks) to `out`. */
function pushAll(out: Buffer[], result: Buffer | Buffer[]): void {
  if (Array.isArray(result)) out.push(...result);
  else out.push(result);
}

function deflateAsync(input: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    deflateRaw(input, options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Blocks smaller than this are always deflated (sampling would not pay). */
const SAMPLE_MIN_BLOCK = 64 * 1024;
/** Bytes per sample, and samples per block. */
const SAMPLE_SIZE = 4 * 1024;
const SAMPLES = 4;
/** A block whose samples shrink by less than 3% is stored, not deflated. */
const STORE_RATIO = 0.97;
/** A block whose samples shrink by less than 25% is deflated with run-length matches only. */
const RLE_RATIO = 0.75;

/** What {@link sampleBlock} tells of a block. */
type BlockKind = "random" | "mostly-random" | "text";

/**
 * What a block looks like, from four 4 KiB samples spread over it and
 * deflated at level 1 (~0.1 ms, synchronous: less than a thread-pool round
 * trip); the decision depends only on the bytes (this block's, and whether
 * the one before was random), so output stays deterministic:
 *
 * - `random` (samples shrink by less than 3%: random, encrypted or already
 *   compressed data): emitted as stored deflate blocks. zlib would spend
 *   ~30 ns per byte to end up storing it too; image layers are full of
 *   compressed files, and klauspost/compress and zstd skip such data the
 *   same way.
 * - `mostly-random` (less than 25%): such data with runs of zeros between
 *   it, as in a tar of many small compressed files (headers and padding).
 *   Deflated with `Z_RLE`: the runs still shrink, the string search that
 *   finds almost nothing is skipped. Measured on a tar of 20,000 random
 *   files: 14 ms per MiB and 86.6% of the input, against 43 ms and 85.3%
 *   with the default strategy; on a Node binary, whose blocks rarely fall in
 *   this band, 81% against 77% for those blocks.
 * - `text`: everything else, deflated normally.
 *
 * After a random block (`afterRandom`), the block's last 4 KiB are deflated
 * first, and if they still look random the block is taken as random: in a
 * big random file each block costs one sample instead of four (the four
 * were 60-80 ms of a 256 MiB layer's ~0.55 s, on the busiest thread). The
 * tail is the place to look: a random file followed by compressible data
 * shows it there, whatever the offset where it starts; only compressible
 * data between random data within one block goes unnoticed (and is stored).
 */
function sampleBlock(block: Buffer, afterRandom: boolean): BlockKind {
  if (afterRandom && sampleRatio(block.subarray(block.length - SAMPLE_SIZE)) >= STORE_RATIO) return "random";
  const parts: Buffer[] = [];
  const step = Math.floor(block.length / SAMPLES);
  for (let i = 0; i < SAMPLES; i++) parts.push(block.subarray(i * step, i * step + SAMPLE_SIZE));
  const ratio = sampleRatio(Buffer.concat(parts));
  return ratio >= STORE_RATIO ? "random" : ratio >= RLE_RATIO ? "mostly-random" : "text";
}

/** Compressed size over size of `sample` deflated at level 1. */
function sampleRatio(sample: Buffer): number {
  return deflateRawSync(sample, { level: 1 }).length / sample.length;
}

/** Max bytes of one stored deflate block (its LEN field is 16 bits). */
const STORED_MAX = 0xffff;

/**
 * `data` as stored (uncompressed) deflate blocks (RFC 1951 section 3.2.4):
 * a header byte (BFINAL, BTYPE=00, padded to the byte boundary), LEN, NLEN,
 * then the bytes. The previous block ended byte-aligned (sync flush), so
 * these concatenate; the decoder's window still sees the bytes, so the next
 * block may use them as its dictionary.
 */
function storedBlocks(data: Buffer, final: boolean): Buffer[] {
  // Returned as parts (header, slice of `data`, ...): no copy of the block.
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += STORED_MAX) {
    const len = Math.min(STORED_MAX, data.length - off);
    const header = Buffer.alloc(5);
    header[0] = final && off + len === data.length ? 1 : 0;
    header.writeUInt16LE(len, 1);
    header.writeUInt16LE(~len & 0xffff, 3);
    parts.push(header, data.subarray(off, off + len));
  }
  return parts;
}
