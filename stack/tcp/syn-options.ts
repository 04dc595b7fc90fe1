// The options exchanged in SYN and SYN-ACK and what both ends then agree on:
// MSS (RFC 9293 3.7.1), window scaling (RFC 7323 2), timestamps (RFC 7323 3),
// SACK-permitted (RFC 2018 2). Shared by connections and by the listener's
// SYN requests, which answer a SYN before any connection exists.

import type { TcpConfig } from '../config';
import type { TcpSegment } from '../wire/tcp';
import { windowScaleFor } from './window';

/** The smallest MSS we take from a peer: a smaller one would cost a segment per few bytes. */
const MIN_PEER_MSS = 64;

/** What the SYN options set, on a connection (its TCB) or a SYN request. */
export interface SynState {
  /** MSS we may send (the peer's, bounded by ours). */
  sndMss: number;
  /** MSS we announced. */
  rcvMss: number;
  wscaleOn: boolean;
  sndWscale: number;
  rcvWscale: number;
  tsOn: boolean;
  tsRecent: number;
  tsRecentAt: number;
  tsRetransmitMark: number;
  sackOk: boolean;
}

/**
 * The options of the peer's SYN (`ourMss`: what our route allows; `now`, `tsNow`:
 * the clock and our timestamp clock). An option counts only when both sides
 * sent it (RFC 7323 2.2, 3.2; RFC 2018 2).
 */
export function takeSynOptions(s: SynState, cfg: TcpConfig, ourMss: number, seg: TcpSegment, now: number, tsNow: number): void {
  const peerMss = seg.mss >= 0 ? seg.mss : cfg.defaultPeerMss; // RFC 9293 3.7.1: 536 when absent
  s.rcvMss = ourMss;
  // A peer's tiny MSS is raised to 64 (as Linux's tcp_min_snd_mss), never beyond what our route carries.
  s.sndMss = Math.min(Math.max(peerMss, MIN_PEER_MSS), ourMss);
  if (cfg.windowScaling && seg.windowScale >= 0) {
    s.wscaleOn = true;
    s.sndWscale = Math.min(seg.windowScale, 14);
    s.rcvWscale = windowScaleFor(cfg.receiveBufferBytes);
  } else {
    s.sndWscale = 0;
    s.rcvWscale = 0;
  }
  if (cfg.timestamps && seg.hasTimestamps) {
    s.tsOn = true;
    s.tsRecent = seg.tsVal;
    s.tsRecentAt = now;
    s.tsRetransmitMark = tsNow;
  }
  s.sackOk = cfg.sack && seg.sackPermitted;
}

/**
 * Our SYN's options (`answering` false: everything we support) or a SYN-ACK's
 * (only what the SYN offered, RFC 7323 2.2, RFC 2018 2), in seg.
 */
export function writeSynOptions(seg: TcpSegment, cfg: TcpConfig, ourMss: number, s: SynState, answering: boolean, tsVal: number): void {
  seg.mss = ourMss;
  if (cfg.windowScaling && (!answering || s.wscaleOn)) seg.windowScale = s.rcvWscale;
  if (cfg.sack && (!answering || s.sackOk)) seg.sackPermitted = true;
  if (cfg.timestamps && (!answering || s.tsOn)) {
    seg.hasTimestamps = true;
    seg.tsVal = tsVal;
    seg.tsEcr = answering ? s.tsRecent : 0;
  }
}
