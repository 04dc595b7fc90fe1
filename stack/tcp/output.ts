// Output (RFC 9293 3.10.7, "send what the windows allow"): new data and
// retransmissions as loss recovery and the windows allow, then the ACK still
// owed, as urgently as it is owed.

import { sendOwedAck } from './ack-policy';
import { sackRecoverySend } from './recovery/sack-recovery';
import { sendData } from './sender';
import type { Tcb } from './tcb';

/** Send what the windows allow; an ACK still owed afterwards goes as ack-policy says. */
export function output(c: Tcb): void {
  const s = c.state;
  if (s === 'ESTABLISHED' || s === 'CLOSE-WAIT' || s === 'FIN-WAIT-1' || s === 'CLOSING' || s === 'LAST-ACK') {
    sendAllowed(c);
  }
  // Data segments carry the ACK; what is still owed goes as the urgency says.
  sendOwedAck(c);
}

/** Data as the windows allow: in SACK recovery the pipe decides (RFC 6675 5), else plain sending. */
export function sendAllowed(c: Tcb): void {
  if (c.inRecovery && c.sackOk && c.cc !== null) sackRecoverySend(c);
  else sendData(c);
}
