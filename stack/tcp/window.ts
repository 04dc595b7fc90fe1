// Window management: the window we offer (RFC 9293 3.8.6.2.2 receiver-side
// silly window avoidance, never shrinking the right edge; RFC 7323 window
// scaling), when reading deserves a window update, and the send window the
// peer offers us (the SND.WL1/SND.WL2 rule of RFC 9293 3.10.7.4).

import { seqAdd, seqDiff, seqGe, seqLe, seqLt, seqMax } from './seq';
import { T_PERSIST, type Tcb } from './tcb';
import { stopTimer } from './timers';
import type { TcpSegment } from '../wire/tcp';

export const MAX_WINDOW_FIELD = 0xffff;

/** The window-scale shift that lets the window field cover `buffer` bytes (RFC 7323 2.3). */
export function windowScaleFor(buffer: number): number {
  let s = 0;
  while (s < 14 && MAX_WINDOW_FIELD << s < buffer) s++;
  return s;
}

/** Free receive space: the buffer less what waits to be read and what is held out of order. */
function freeSpace(c: Tcb): number {
  const reasmBytes = c.reassembly !== null ? c.reassembly.bytes : 0;
  return Math.max(0, c.config.receiveBufferBytes - c.receiveQueue.length - reasmBytes);
}

/** The window field to send, never shrinking the right edge (RFC 9293 3.8.6.2.2, RFC 7323 2.4). */
export function advertiseWindow(c: Tcb, syn: boolean): number {
  const cfg = c.config;
  let wnd = freeSpace(c);
  const shift = syn ? 0 : c.rcvWscale;
  const maxWnd = MAX_WINDOW_FIELD << shift;
  if (wnd > maxWnd) wnd = maxWnd;
  // Offer whole segments of the size the peer sends (as Linux's __tcp_select_window rounds
  // free space down to rcv_mss), so a sender never gets room for a sliver.
  const seg = c.rcvMssSeen;
  if (!syn && wnd > seg) wnd -= wnd % seg;
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): do not offer a small increase of the right edge.
  const oldRight = c.rcvAdvertised;
  let right = seqAdd(c.rcvNxt, wnd);
  const grow = seqDiff(right, oldRight);
  if (!syn && c.isSynchronized && grow > 0 && grow < Math.min(cfg.receiveBufferBytes / 2, seg)
    && seqGe(oldRight, c.rcvNxt)) {
    right = oldRight;
  }
  if (seqLt(right, oldRight) && c.isSynchronized) right = oldRight; // never shrink
  right = seqMax(right, c.rcvNxt);
  // Round up to the scale unit so the edge never recedes (as Linux's ALIGN in tcp_select_window).
  const field = Math.min(Math.ceil(seqDiff(right, c.rcvNxt) / 2 ** shift), MAX_WINDOW_FIELD);
  c.rcvAdvertised = seqAdd(c.rcvNxt, field * 2 ** shift);
  return field;
}

/**
 * After the application read (`queuedBefore` bytes were waiting): the window
 * to announce in an update now, or -1 when none is due (RFC 9293 3.8.6.2.2).
 * As Linux's tcp_cleanup_rbuf: when the window we advertised is at most half
 * the buffer and reading has at least doubled it. Only when unread data was
 * what held the window down (Linux's slowly opening rcv_ssthresh has the same
 * effect): not merely because the SYN's window was unscaled.
 */
export function windowUpdateDue(c: Tcb, queuedBefore: number): number {
  const cfg = c.config;
  const reasmBytes = c.reassembly !== null ? c.reassembly.bytes : 0;
  if (2 * (queuedBefore + reasmBytes) < cfg.receiveBufferBytes) return -1;
  const wnd = freeSpace(c);
  const advertised = Math.max(0, seqDiff(c.rcvAdvertised, c.rcvNxt));
  if (2 * advertised <= cfg.receiveBufferBytes && wnd >= 2 * advertised && wnd - advertised >= Math.min(c.rcvMss, cfg.receiveBufferBytes / 2)) {
    return wnd;
  }
  return -1;
}

/** The peer's window from an acceptable ACK (RFC 9293 3.10.7.4 fifth, the SND.WL1/SND.WL2 rule). */
export function updateSendWindow(c: Tcb, seg: TcpSegment, seq: number, ack: number): void {
  if (!(seqGe(ack, c.sndUna) && (seqLt(c.sndWl1, seq) || (c.sndWl1 === seq && seqLe(c.sndWl2, ack))))) return;
  const wnd = seg.window << c.sndWscale;
  const opened = wnd > c.sndWnd;
  if (wnd !== c.sndWnd && c.layer.trace.enabled) {
    c.layer.trace.window(c, 'send', wnd, wnd === 0 ? 'peer advertised a zero window' : 'peer window changed');
  }
  c.sndWnd = wnd;
  if (wnd > c.maxSndWnd) c.maxSndWnd = wnd;
  c.sndWl1 = seq;
  c.sndWl2 = ack;
  if (opened && c.timerKind === T_PERSIST && wnd > 0) {
    // The window opened: no more probing (RFC 9293 3.8.6.1).
    stopTimer(c);
    c.rto.backoff = 0;
  }
}
