/**
 * Hex text read piece by piece (stdin in chunks of any size), for `meterlab decode`: digits may be split across
 * chunks, separated by white space, commas, colons, semicolons or hyphens, and prefixed with `0x`. Memory is the
 * size of the chunk, whatever the size of the input (issue 13, item 6).
 */
export class HexTextError extends Error {
  override readonly name = 'HexTextError';
  readonly code = 'NOT_HEX';
}

const SEPARATORS = new Set([' ', '\t', '\n', '\v', '\f', '\r', ',', ':', ';', '-']);

/** Turns hex text into bytes chunk by chunk; throws {@link HexTextError} naming the first character that is not hex. */
export class HexTextDecoder {
  /** A digit waiting for its pair (-1: none). */
  #high = -1;
  /** A `0` that may be the start of a `0x` prefix, held until the next character says which. */
  #zero = false;
  /** Characters read so far, to say where a bad one is. */
  #position = 0;

  /** Bytes completed by `text`. */
  push(text: string): Uint8Array {
    const out = new Uint8Array((text.length >> 1) + 2);
    let n = 0;
    const digit = (value: number) => {
      if (this.#high < 0) {
        this.#high = value;
      } else {
        out[n++] = (this.#high << 4) | value;
        this.#high = -1;
      }
    };
    for (let i = 0; i < text.length; i++, this.#position++) {
      const c = text[i];
      if (this.#zero) {
        this.#zero = false;
        // `0x` starts a prefix only at a byte boundary; elsewhere the 0 is a digit and x is not hex.
        if ((c === 'x' || c === 'X') && this.#high < 0) continue;
        digit(0);
      }
      const value = hexValue(c);
      if (value === 0 && this.#high < 0) {
        this.#zero = true;
      } else if (value >= 0) {
        digit(value);
      } else if (!SEPARATORS.has(c)) {
        throw new HexTextError(
          `the input is not hex: ${JSON.stringify(c)} at character ${this.#position + 1} is not a hex digit ` +
            '(give frames as hex such as "68 10 44 …", or raw bytes on stdin with --binary)',
        );
      } else if (this.#high >= 0) {
        throw new HexTextError(
          `the input is not hex bytes: a lone digit before character ${this.#position + 1} (each byte is two digits)`,
        );
      }
    }
    return out.subarray(0, n);
  }

  /** End of the text: throws when a digit is left without its pair. */
  end(): void {
    if (this.#zero || this.#high >= 0) {
      throw new HexTextError(
        'the input is not hex bytes: it ends with a lone digit (each byte is two digits)',
      );
    }
  }
}

function hexValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}
