// Structured trace events. Producers check `tracer.enabled` before building an
// event, so a stack nobody listens to pays one boolean test per site.

export interface SegmentFields {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  flags: number;
  seq: number;
  ack: number;
  /** The raw 16-bit window field as it appears on the wire. */
  window: number;
  /** Payload bytes. */
  len: number;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  tsVal?: number;
  tsEcr?: number;
  sack?: Array<[number, number]>;
}

export type TraceEvent =
  | ({ type: 'segment'; t: number; stack: string; dir: 'in' | 'out'; conn?: string } & SegmentFields)
  | { type: 'state'; t: number; stack: string; conn: string; from: string; to: string; cause: string }
  | { type: 'drop'; t: number; stack: string; layer: 'ip' | 'icmp' | 'tcp' | 'link'; reason: string; conn?: string }
  | { type: 'timer'; t: number; stack: string; conn: string; timer: string; action: 'set' | 'fired' | 'cancelled'; at?: number }
  | { type: 'rtt'; t: number; stack: string; conn: string; sample: number; srtt: number; rttvar: number; rto: number }
  | { type: 'retransmit'; t: number; stack: string; conn: string; seq: number; len: number; count: number; reason: string }
  | { type: 'cwnd'; t: number; stack: string; conn: string; cwnd: number; ssthresh: number; flight: number; cause: string }
  | { type: 'probe'; t: number; stack: string; conn: string; kind: 'keepalive' | 'zero-window'; n: number; of: number }
  | { type: 'nagle'; t: number; stack: string; conn: string; held: number; outstanding: number }
  | { type: 'ack'; t: number; stack: string; conn: string; action: 'delayed' | 'quick' | 'immediate'; reason: string; delayMs?: number }
  | { type: 'window'; t: number; stack: string; conn: string; side: 'send' | 'receive'; window: number; reason: string }
  | { type: 'arp'; t: number; stack: string; iface: string; what: string; ip: string; mac: string | null }
  | { type: 'icmp'; t: number; stack: string; dir: 'in' | 'out'; icmpType: number; code: number; src: string; dst: string }
  | { type: 'error'; t: number; stack: string; conn: string; code: string };

export type TraceListener = (event: TraceEvent) => void;

export class Tracer {
  /** True while anyone listens; producers test it before building events. */
  enabled = false;
  private listeners: TraceListener[] = [];

  on(listener: TraceListener): () => void {
    this.listeners.push(listener);
    this.enabled = true;
    return () => this.off(listener);
  }

  off(listener: TraceListener): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
    this.enabled = this.listeners.length > 0;
  }

  emit(event: TraceEvent): void {
    for (const l of this.listeners) l(event);
  }
}
