/**
 * Errors of the conformance harness, with stable codes:
 *
 * | code                  | meaning                                                             | exit |
 * | --------------------- | ------------------------------------------------------------------- | ---- |
 * | CONFORM_USAGE         | a flag is missing or malformed (`--target`, `--meter`, `--role` …)   | 2    |
 * | CONFORM_BAD_CASE_FILE | a data-file case is malformed; the message names file, case, field   | 2    |
 * | CONFORM_UNREACHABLE   | the device under test cannot be opened or went away during the run   | 2    |
 */
export type ConformanceErrorCode = 'CONFORM_USAGE' | 'CONFORM_BAD_CASE_FILE' | 'CONFORM_UNREACHABLE';

export class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
  constructor(
    readonly code: ConformanceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
