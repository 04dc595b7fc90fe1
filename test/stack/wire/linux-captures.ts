// Real IPv4 packets from Linux 6.18, captured on lo inside a private network
// namespace (unshare -n) with tcpdump: a Python client and server on
// 127.0.0.1, a ping socket, UDP to a closed port, and a 3000-byte UDP
// datagram with lo's MTU set to 1500. The 14-byte loopback Ethernet header is
// stripped. Each packet is preceded by tcpdump -vv's reading of it.
//
// Loopback offloads TCP and UDP checksums (CHECKSUM_PARTIAL): in packets
// marked `offloaded` the TCP checksum field holds the folded pseudo-header sum
// that a NIC would complete, not the final checksum. Packets the kernel builds
// with ip_send_unicast_reply (RSTs, the TIME-WAIT ACK) and all IP and ICMP
// checksums are complete.

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export interface Capture {
  readonly bytes: Uint8Array;
  /** The TCP checksum is the offloaded partial sum (see above). */
  readonly offloaded: boolean;
  /** For offloaded packets: the complete TCP checksum, as tcpdump computed it ("incorrect -> 0x...."). */
  readonly tcpdumpChecksum?: number;
}

/** SYN with MSS, SACK-permitted, timestamps, window scale.
 *   10:45:09.873365 IP (tos 0x0, ttl 64, id 62447, offset 0, flags [DF], proto TCP (6), length 60)
 *   127.0.0.1.49738 > 127.0.0.1.5000: Flags [S], cksum 0xfe30 (incorrect -> 0x7d95), seq 1508470574, win 64240, options [mss 1460,sackOK,TS val 87567698 ecr 0,nop,wscale 10], length 0
 */
export const SYN: Capture = {
  offloaded: true, tcpdumpChecksum: 0x7d95,
  bytes: hex(`
    4500003cf3ef4000400648ca7f0000017f000001c24a138859e96f2e00000000a002faf0fe300000020405b40402080a
    05382d52000000000103030a
  `),
};

/** SYN-ACK.
 *   10:45:09.873377 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 60)
 *   127.0.0.1.5000 > 127.0.0.1.49738: Flags [S.], cksum 0xfe30 (incorrect -> 0x0e59), seq 3430220130, ack 1508470575, win 65160, options [mss 1460,sackOK,TS val 208310609 ecr 87567698,nop,wscale 10], length 0
 */
export const SYN_ACK: Capture = {
  offloaded: true, tcpdumpChecksum: 0x0e59,
  bytes: hex(`
    4500003c0000400040063cba7f0000017f0000011388c24acc75016259e96f2fa012fe88fe300000020405b40402080a
    0c6a915105382d520103030a
  `),
};

/** the handshake's final ACK.
 *   10:45:09.873391 IP (tos 0x0, ttl 64, id 62448, offset 0, flags [DF], proto TCP (6), length 52)
 *   127.0.0.1.49738 > 127.0.0.1.5000: Flags [.], cksum 0xfe28 (incorrect -> 0x3b72), seq 1, ack 1, win 63, options [nop,nop,TS val 87567698 ecr 208310609], length 0
 */
export const ACK: Capture = {
  offloaded: true, tcpdumpChecksum: 0x3b72,
  bytes: hex(`
    45000034f3f04000400648d17f0000017f000001c24a138859e96f2fcc7501638010003ffe2800000101080a05382d52
    0c6a9151
  `),
};

/** data with PSH: 'hello tcplab\n'.
 *   10:45:09.873432 IP (tos 0x0, ttl 64, id 62449, offset 0, flags [DF], proto TCP (6), length 65)
 *   127.0.0.1.49738 > 127.0.0.1.5000: Flags [P.], cksum 0xfe35 (incorrect -> 0xa737), seq 1:14, ack 1, win 63, options [nop,nop,TS val 87567699 ecr 208310609], length 13
 */
export const DATA_PSH: Capture = {
  offloaded: true, tcpdumpChecksum: 0xa737,
  bytes: hex(`
    45000041f3f14000400648c37f0000017f000001c24a138859e96f2fcc7501638018003ffe3500000101080a05382d53
    0c6a915168656c6c6f207463706c61620a
  `),
};

/** data with PSH: 'world\n'.
 *   10:45:09.923583 IP (tos 0x0, ttl 64, id 39641, offset 0, flags [DF], proto TCP (6), length 58)
 *   127.0.0.1.5000 > 127.0.0.1.49738: Flags [P.], cksum 0xfe2e (incorrect -> 0xed3b), seq 1:7, ack 14, win 64, options [nop,nop,TS val 208310660 ecr 87567699], length 6
 */
export const DATA_PSH_REPLY: Capture = {
  offloaded: true, tcpdumpChecksum: 0xed3b,
  bytes: hex(`
    4500003a9ad940004006a1e27f0000017f0000011388c24acc75016359e96f3c80180040fe2e00000101080a0c6a9184
    05382d53776f726c640a
  `),
};

/** FIN with timestamps.
 *   10:45:09.973723 IP (tos 0x0, ttl 64, id 62451, offset 0, flags [DF], proto TCP (6), length 52)
 *   127.0.0.1.49738 > 127.0.0.1.5000: Flags [F.], cksum 0xfe28 (incorrect -> 0x3ac6), seq 14, ack 7, win 63, options [nop,nop,TS val 87567799 ecr 208310660], length 0
 */
export const FIN: Capture = {
  offloaded: true, tcpdumpChecksum: 0x3ac6,
  bytes: hex(`
    45000034f3f34000400648ce7f0000017f000001c24a138859e96f3ccc7501698011003ffe2800000101080a05382db7
    0c6a9184
  `),
};

/** last ACK, sent from TIME-WAIT by ip_send_unicast_reply: full checksum.
 *   10:45:10.023924 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 52)
 *   127.0.0.1.49738 > 127.0.0.1.5000: Flags [.], cksum 0x3a2f (correct), seq 15, ack 8, win 63, options [nop,nop,TS val 87567849 ecr 208310760], length 0
 */
export const TIME_WAIT_ACK: Capture = {
  offloaded: false,
  bytes: hex(`
    450000340000400040063cc27f0000017f000001c24a138859e96f3dcc75016a8010003f3a2f00000101080a05382de9
    0c6a91e8
  `),
};

/** RST-ACK answering a SYN to a closed port: full checksum.
 *   10:45:10.124564 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 40)
 *   127.0.0.1.5001 > 127.0.0.1.57814: Flags [R.], cksum 0x7912 (correct), seq 0, ack 1444867389, win 0, length 0
 */
export const RST_ACK_REFUSED: Capture = { offloaded: false, bytes: hex('450000280000400040063cce7f0000017f0000011389e1d600000000561eed3d5014000079120000') };

/** RST-ACK from an abortive close (SO_LINGER 0).
 *   10:45:10.175029 IP (tos 0x0, ttl 64, id 19586, offset 0, flags [DF], proto TCP (6), length 52)
 *   127.0.0.1.49754 > 127.0.0.1.5000: Flags [R.], cksum 0xfe28 (incorrect -> 0x201d), seq 1, ack 1, win 63, options [nop,nop,TS val 3396428425 ecr 1813195737], length 0
 */
export const RST_ACK_ABORT: Capture = {
  offloaded: true, tcpdumpChecksum: 0x201d,
  bytes: hex(`
    450000344c8240004006f03f7f0000017f000001c25a13883cddea17f82b9e6f8014003ffe2800000101080aca716289
    6c132bd9
  `),
};

/** bare RST answering an ACK to a closed port: full checksum.
 *   10:45:10.225654 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 40)
 *   127.0.0.1.5002 > 127.0.0.1.40000: Flags [R], cksum 0x9967 (correct), seq 305419896, win 0, length 0
 */
export const RST: Capture = { offloaded: false, bytes: hex('450000280000400040063cce7f0000017f000001138a9c4012345678000000005004000099670000') };

/** echo request (ping socket).
 *   10:45:10.276566 IP (tos 0x0, ttl 64, id 43492, offset 0, flags [DF], proto ICMP (1), length 68)
 *   127.0.0.1 > 127.0.0.1: ICMP echo request, id 52169, seq 1, length 48
 */
export const ICMP_ECHO_REQUEST: Capture = {
  offloaded: false,
  bytes: hex(`
    45000044a9e44000400192d27f0000017f00000108006d62cbc90001101112131415161718191a1b1c1d1e1f20212223
    2425262728292a2b2c2d2e2f3031323334353637
  `),
};

/** the kernel's echo reply.
 *   10:45:10.276574 IP (tos 0x0, ttl 64, id 43493, offset 0, flags [none], proto ICMP (1), length 68)
 *   127.0.0.1 > 127.0.0.1: ICMP echo reply, id 52169, seq 1, length 48
 */
export const ICMP_ECHO_REPLY: Capture = {
  offloaded: false,
  bytes: hex(`
    45000044a9e500004001d2d17f0000017f00000100007562cbc90001101112131415161718191a1b1c1d1e1f20212223
    2425262728292a2b2c2d2e2f3031323334353637
  `),
};

/** UDP datagram to a closed port (UDP checksum offloaded).
 *   10:45:10.327910 IP (tos 0x0, ttl 64, id 46284, offset 0, flags [DF], proto UDP (17), length 43)
 *   127.0.0.1.39963 > 127.0.0.1.9: [bad udp cksum 0xfe2a -> 0xb46f!] UDP, length 15
 */
export const UDP_PROBE: Capture = { offloaded: false, bytes: hex('4500002bb4cc4000401187f37f0000017f0000019c1b00090017fe2a70726f62652d646174612d31323334') };

/** port unreachable quoting UDP_PROBE.
 *   10:45:10.328199 IP (tos 0xc0, ttl 64, id 43501, offset 0, flags [none], proto ICMP (1), length 71)
 *   127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 9 unreachable, length 51
 *   IP (tos 0x0, ttl 64, id 46284, offset 0, flags [DF], proto UDP (17), length 43)
 *   127.0.0.1.39963 > 127.0.0.1.9: [bad udp cksum 0xfe2a -> 0xb46f!] UDP, length 15
 */
export const ICMP_PORT_UNREACHABLE: Capture = {
  offloaded: false,
  bytes: hex(`
    45c00047a9ed00004001d2067f0000017f0000010303b16c000000004500002bb4cc4000401187f37f0000017f000001
    9c1b00090017fe2a70726f62652d646174612d31323334
  `),
};

/** first fragment of a 3028-byte UDP datagram (MTU 1500).
 *   10:45:10.378598 IP (tos 0x0, ttl 64, id 46296, offset 0, flags [+], proto UDP (17), length 1500)
 *   127.0.0.1.39963 > 127.0.0.1.9: UDP, length 3000
 */
export const FRAGMENT_1: Capture = {
  offloaded: false,
  bytes: hex(`
    450005dcb4d820004011a2367f0000017f0000019c1b00090bc0f1eb00070e151c232a31383f464d545b626970777e85
    8c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5
    dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e25
    2c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e75
    7c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5
    ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e15
    1c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e65
    6c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5
    bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe05
    0c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e55
    5c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5
    acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5
    fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e45
    4c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e95
    9ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5
    ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e35
    3c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e85
    8c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5
    dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e25
    2c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e75
    7c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5
    ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e15
    1c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e65
    6c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5
    bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe05
    0c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e55
    5c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5
    acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5
    fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e45
    4c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e95
    9ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5
    ecf3fa01080f161d242b3239
  `),
};

/** second fragment.
 *   10:45:10.378609 IP (tos 0x0, ttl 64, id 46296, offset 1480, flags [+], proto UDP (17), length 1500)
 *   127.0.0.1 > 127.0.0.1: ip-proto-17
 */
export const FRAGMENT_2: Capture = {
  offloaded: false,
  bytes: hex(`
    450005dcb4d820b94011a17d7f0000017f00000140474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd
    040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d
    545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969d
    a4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6ed
    f4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d
    444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d
    949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dd
    e4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d
    343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d
    848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cd
    d4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d
    242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d
    747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bd
    c4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d
    141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d
    646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6ad
    b4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd
    040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d
    545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969d
    a4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6ed
    f4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d
    444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d
    949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dd
    e4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d
    343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d
    848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cd
    d4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d
    242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d
    747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bd
    c4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d
    141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d
    646b727980878e959ca3aab1
  `),
};

/** last fragment.
 *   10:45:10.378610 IP (tos 0x0, ttl 64, id 46296, offset 2960, flags [none], proto UDP (17), length 68)
 *   127.0.0.1 > 127.0.0.1: ip-proto-17
 */
export const FRAGMENT_3: Capture = {
  offloaded: false,
  bytes: hex(`
    45000044b4d801724011c65c7f0000017f000001b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e75
    7c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01
  `),
};

/** port unreachable quoting the reassembled datagram, cut at 576 bytes.
 *   10:45:10.378627 IP (tos 0xc0, ttl 64, id 43509, offset 0, flags [none], proto ICMP (1), length 576)
 *   127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 9 unreachable, length 556
 *   IP (tos 0x0, ttl 64, id 46296, offset 0, flags [none], proto UDP (17), length 3028)
 *   127.0.0.1.39963 > 127.0.0.1.9: UDP, length 3000
 */
export const ICMP_PORT_UNREACHABLE_576: Capture = {
  offloaded: false,
  bytes: hex(`
    45c00240a9f500004001d0057f0000017f00000103038e3c0000000045000bd4b4d800004011bc3e7f0000017f000001
    9c1b00090bc0f1eb00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11
    181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61
    686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1
    b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01
    080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51
    585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1
    a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1
    f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41
    484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91
    989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1
    e8eff6fd040b121920272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31
  `),
};

/** SYN with net.ipv4.tcp_timestamps=0.
 *   10:45:10.431034 IP (tos 0x0, ttl 64, id 63142, offset 0, flags [DF], proto TCP (6), length 52)
 *   127.0.0.1.49756 > 127.0.0.1.5000: Flags [S], cksum 0xfe28 (incorrect -> 0x9d2e), seq 3551276891, win 64240, options [mss 1460,nop,nop,sackOK,nop,wscale 10], length 0
 */
export const SYN_NO_TS: Capture = {
  offloaded: true, tcpdumpChecksum: 0x9d2e,
  bytes: hex(`
    45000034f6a640004006461b7f0000017f000001c25c1388d3ac2f5b000000008002faf0fe280000020405b401010402
    0103030a
  `),
};

/** SYN-ACK without timestamps.
 *   10:45:10.431047 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 52)
 *   127.0.0.1.5000 > 127.0.0.1.49756: Flags [S.], cksum 0xfe28 (incorrect -> 0x5134), seq 1344142283, ack 3551276892, win 64240, options [mss 1460,nop,nop,sackOK,nop,wscale 10], length 0
 */
export const SYN_ACK_NO_TS: Capture = {
  offloaded: true, tcpdumpChecksum: 0x5134,
  bytes: hex(`
    450000340000400040063cc27f0000017f0000011388c25c501dfbcbd3ac2f5c8012faf0fe280000020405b401010402
    0103030a
  `),
};

/** FIN without timestamps.
 *   10:45:10.431100 IP (tos 0x0, ttl 64, id 63144, offset 0, flags [DF], proto TCP (6), length 40)
 *   127.0.0.1.49756 > 127.0.0.1.5000: Flags [F.], cksum 0xfe1c (incorrect -> 0x8cba), seq 1, ack 1, win 63, length 0
 */
export const FIN_NO_TS: Capture = { offloaded: true, tcpdumpChecksum: 0x8cba, bytes: hex('45000028f6a84000400646257f0000017f000001c25c1388d3ac2f5c501dfbcc5011003ffe1c0000') };
