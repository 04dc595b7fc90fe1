// IPv4 fragmentation (RFC 791 section 3.2 "Fragmentation", RFC 1812 5.2.6).

import {
  IPV4_FLAG_MF, IPV4_HEADER_LENGTH, Ipv4Header, parseIpv4, setIpv4Checksum,
} from '../wire/ipv4';
import type { Ipv4DropReason } from '../wire/ipv4';
import { copyBytes } from '../buffers';

export type FragmentDropReason =
  /** Bigger than the MTU with DF set: the sender should get ICMP frag-needed (RFC 1191). */
  | 'ipv4-needs-fragmentation-df'
  /** The MTU cannot carry the header plus 8 bytes of data (RFC 791 requires 68). */
  | 'ipv4-mtu-too-small'
  | Ipv4DropReason;

const scratch = new Ipv4Header();

/**
 * Split the datagram at packet[0, totalLength) into fragments of at most `mtu`
 * bytes: each a fresh buffer with a copy of the header, payload offsets a
 * multiple of 8, MF on all but the last (and on the last too when the
 * original was itself a non-final fragment), the checksum recomputed. The
 * first fragment keeps all options; later ones keep only options with the
 * copied flag, the others replaced by NOPs so every fragment has the same
 * header length (as Linux ip_options_fragment). A datagram that fits is
 * returned alone, as is (or trimmed to its total length).
 */
export function fragmentIpv4(packet: Uint8Array, mtu: number): Uint8Array[] | FragmentDropReason {
  const h = scratch;
  const reason = parseIpv4(packet, h, false);
  if (reason !== null) return reason;
  if (h.totalLength <= mtu) return [h.totalLength === packet.length ? packet : packet.subarray(0, h.totalLength)];
  if (h.dontFragment) return 'ipv4-needs-fragmentation-df';
  const hl = h.headerLength;
  const maxData = (mtu - hl) & ~7;
  if (maxData < 8) return 'ipv4-mtu-too-small';

  const header = packet.subarray(0, hl);
  let laterHeader: Uint8Array | null = null;
  const fragments: Uint8Array[] = [];
  for (let off = 0; off < h.payloadLength; off += maxData) {
    const len = Math.min(maxData, h.payloadLength - off);
    const last = off + len === h.payloadLength;
    const f = new Uint8Array(hl + len);
    if (off === 0) {
      f.set(header);
    } else {
      if (laterHeader === null) laterHeader = copiedOptionsHeader(header);
      f.set(laterHeader);
    }
    f.set(packet.subarray(hl + off, hl + off + len), hl);
    const total = hl + len;
    f[2] = total >>> 8;
    f[3] = total;
    const word = (!last || h.moreFragments ? IPV4_FLAG_MF : 0) | ((h.fragmentOffset + off) >>> 3);
    f[6] = word >>> 8;
    f[7] = word;
    setIpv4Checksum(f, 0);
    fragments.push(f);
  }
  return fragments;
}

/** The header for non-first fragments: options without the copied flag (0x80) become NOPs (RFC 791 3.1 "Options"). */
function copiedOptionsHeader(header: Uint8Array): Uint8Array {
  // A real copy: `header` is a view of the caller's packet, and a Buffer's slice() would be one too.
  const out = copyBytes(header);
  let i = IPV4_HEADER_LENGTH;
  while (i < out.length) {
    const type = out[i];
    if (type === 0) break; // end of option list
    if (type === 1) {
      i++;
      continue;
    }
    if (i + 1 >= out.length) break;
    const len = out[i + 1];
    if (len < 2 || i + len > out.length) break; // malformed: leave the rest alone, as Linux does
    if ((type & 0x80) === 0) out.fill(1, i, i + len);
    i += len;
  }
  return out;
}
