// The python3 programs the kernel side runs in the interop tests (each gets
// test/interop/helpers.ts's prelude: out(), and death with the test process).

/** argv: host port bytes. Connects, sends `bytes` random bytes while receiving until EOF, then prints both digests. */
export const BULK_CLIENT = `
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
sent_h = hashlib.sha256(); recv_h = hashlib.sha256()
def sender():
    left = n
    while left:
        b = os.urandom(min(left, 1 << 20))
        sent_h.update(b); s.sendall(b); left -= len(b)
    s.shutdown(socket.SHUT_WR)
th = threading.Thread(target=sender); th.start()
got = 0
while True:
    d = s.recv(1 << 20)
    if not d: break
    recv_h.update(d); got += len(d)
th.join()
out('sent', n, sent_h.hexdigest())
out('received', got, recv_h.hexdigest())
s.close()
`;

/** argv: host port bytes. Serves one connection like BULK_CLIENT (sends `bytes`, receives until EOF). Prints "ready" once listening. */
export const BULK_SERVER = `
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port)); l.listen(1); out('ready')
s, peer = l.accept(); s.settimeout(30)
sent_h = hashlib.sha256(); recv_h = hashlib.sha256()
def sender():
    left = n
    while left:
        b = os.urandom(min(left, 1 << 20))
        sent_h.update(b); s.sendall(b); left -= len(b)
    s.shutdown(socket.SHUT_WR)
th = threading.Thread(target=sender); th.start()
got = 0
while True:
    d = s.recv(1 << 20)
    if not d: break
    recv_h.update(d); got += len(d)
th.join()
out('sent', n, sent_h.hexdigest())
out('received', got, recv_h.hexdigest())
s.close()
`;

/** argv: host port. Echo server for one connection: echoes until EOF, then shuts down its side. */
export const ECHO_SERVER = `
host, port = sys.argv[1], int(sys.argv[2])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port)); l.listen(1); out('ready')
s, peer = l.accept(); out('accepted', peer[0], peer[1])
total = 0
while True:
    d = s.recv(65536)
    if not d: break
    s.sendall(d); total += len(d)
out('eof', total)
s.shutdown(socket.SHUT_WR)
s.close()
`;

/**
 * argv: host port. Half-close, our side first: reads until our FIN (EOF),
 * reports what it got, then (its write side still open) sends 100000 bytes
 * of its own and closes.
 */
export const READ_THEN_REPLY_SERVER = `
host, port = sys.argv[1], int(sys.argv[2])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port)); l.listen(1); out('ready')
s, peer = l.accept()
h = hashlib.sha256(); got = 0
while True:
    d = s.recv(65536)
    if not d: break
    h.update(d); got += len(d)
out('eof', got, h.hexdigest())
time.sleep(0.2)
reply = bytes((i * 7) & 0xff for i in range(100000))
s.sendall(reply)
out('replied', len(reply), hashlib.sha256(reply).hexdigest())
s.close()
`;

/**
 * argv: host port. Half-close, the kernel first: sends 100000 bytes and
 * shutdown(SHUT_WR), then reads until our FIN and reports what it got.
 */
export const SEND_THEN_READ_CLIENT = `
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=30)
data = bytes((i * 13) & 0xff for i in range(100000))
s.sendall(data); s.shutdown(socket.SHUT_WR)
out('shut', len(data), hashlib.sha256(data).hexdigest())
h = hashlib.sha256(); got = 0
while True:
    d = s.recv(65536)
    if not d: break
    h.update(d); got += len(d)
out('eof', got, h.hexdigest())
s.close()
`;

/** argv: host port. Connects and prints "refused" (ECONNREFUSED), or what happened instead. */
export const CONNECT_ONCE = `
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.settimeout(10)
try:
    s.connect((host, port))
    out('connected')
except ConnectionRefusedError as e:
    out('refused', e.errno)
except Exception as e:
    out('error', type(e).__name__, e)
`;

/** argv: host port. Accepts one connection and holds it idle; echoes whatever comes; prints "ready", "accepted", "eof". */
export const IDLE_ECHO_SERVER = `
host, port = sys.argv[1], int(sys.argv[2])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port)); l.listen(1); out('ready')
s, peer = l.accept(); out('accepted')
while True:
    d = s.recv(65536)
    if not d: break
    s.sendall(d); out('echoed', len(d))
out('eof')
s.close()
`;

/**
 * argv: host port idle_seconds. Connects with SO_KEEPALIVE, TCP_KEEPIDLE=1,
 * TCP_KEEPINTVL=1, TCP_KEEPCNT=3, stays idle (the kernel probes every second
 * after the first), then checks the connection still carries data.
 */
export const KEEPALIVE_CLIENT = `
host, port, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
s.settimeout(30)
s.connect((host, port)); out('connected')
time.sleep(idle)
s.sendall(b'still there?')
d = s.recv(100)
out('reply', d.decode())
s.close()
`;

/** argv: host count [wait_seconds]. ICMP echo through a raw socket, for machines without ping(8): prints "transmitted N received M". */
export const RAW_PING = `
import struct
host, count = sys.argv[1], int(sys.argv[2])
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(wait)
def csum(b):
    if len(b) % 2: b += b'\\0'
    x = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    x = (x >> 16) + (x & 0xffff); x += x >> 16
    return ~x & 0xffff
ident = os.getpid() & 0xffff; received = 0
for seq in range(1, count + 1):
    body = struct.pack('!d', time.time()) + bytes(range(48))
    hdr = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    pkt = hdr[:2] + struct.pack('!H', csum(hdr + body)) + hdr[4:] + body
    s.sendto(pkt, (host, 0))
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            d, a = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (d[0] & 15) * 4
        t, c, ck, i, q = struct.unpack('!BBHHH', d[ihl:ihl + 8])
        if a[0] == host and t == 0 and i == ident and q == seq and d[ihl + 8:] == body and csum(d[ihl:]) == 0:
            received += 1; break
    time.sleep(0.1)
out('transmitted', count, 'received', received)
`;
