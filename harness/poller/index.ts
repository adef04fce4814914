/** Reading one meter over a link: the request/reply exchange, the poller, and its errors. */
export {
  type ExchangeAttempt,
  type ExchangeOptions,
  type ExchangeResult,
  FrameExchange,
  type FrameExchangeOptions,
  type ReplyVerdict,
} from './exchange.ts';
export {
  DEFAULT_DI,
  MeterPoller,
  type MeterPollerOptions,
  type MeterReading,
  type PollProtocol,
  type PollReading,
  type PollScan,
  type PollValve,
} from './meter-poller.ts';
export { PollError, type PollErrorCode, type PollErrorDetails } from './poll-error.ts';
