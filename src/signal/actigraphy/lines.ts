/**
 * Bytes in chunks of any size → whole text lines with their 1-based line numbers (UTF-8, a BOM
 * dropped, "\n" or "\r\n"). Browser-safe: TextDecoder in streaming mode keeps characters split
 * across chunks intact.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private rest = '';
  /** Line number of the last line handed out. */
  line = 0;
  private first = true;

  /** Call `onLine` for every line the bytes complete. */
  push(bytes: Uint8Array, onLine: (line: string, lineNo: number) => void): void {
    let text = this.decoder.decode(bytes, { stream: true });
    if (this.first && text.length > 0) { if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); this.first = false; }
    const s = this.rest.length ? this.rest + text : text;
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(s.slice(start, end), ++this.line);
      start = nl + 1;
    }
    this.rest = s.slice(start);
  }

  /** Flush the last line (without a final newline). */
  end(onLine: (line: string, lineNo: number) => void): void {
    const tail = this.rest + this.decoder.decode();
    this.rest = '';
    const s = tail.endsWith('\r') ? tail.slice(0, -1) : tail;
    if (s.length > 0) onLine(s, ++this.line);
  }
}

/** Split a CSV line on commas (sensor files are plain numbers; surrounding quotes are removed). */
export function splitFields(line: string): string[] {
  const f = line.split(',');
  for (let i = 0; i < f.length; i++) {
    let v = f[i].trim();
    if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
    f[i] = v;
  }
  return f;
}

/** Strict number: the whole cell must be a finite decimal number (parseFloat alone accepts "1.2abc"). */
export function toNumber(cell: string): number {
  const v = Number(cell);
  return cell.length > 0 && Number.isFinite(v) ? v : NaN;
}
