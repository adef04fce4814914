/** One request window for every request/answer correlator (see README.md in this folder). */
export { counterIds, type IdSpace, sequenceIds, singleId } from './id-space.ts';
export {
  type AnswerMatch,
  type RequestOptions,
  RequestWindow,
  RequestWindowError,
  type RequestWindowErrorCode,
  type RequestWindowOptions,
  type WindowReply,
} from './request-window.ts';
export { Withdrawal, type WithdrawSignal } from './withdrawal.ts';
