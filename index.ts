// tcplab: the library entry point.

export { Stack, type StackOptions, type InterfaceOptions } from './stack/stack';
export type { Clock, Timer } from './stack/time/clock';
export { VirtualClock } from './stack/time/virtual-clock';
export { RealClock } from './net-api/real-clock';
export { SeededRandom, type RandomSource } from './stack/random';
export { CryptoRandom } from './net-api/crypto-random';
export { makeConfig, defaultTcpConfig, defaultIpConfig, type StackConfig, type TcpConfig, type IpConfig } from './stack/config';
export { Tracer, type TraceEvent } from './stack/trace';
export type { Device, LinkType, FrameReceiver } from './stack/device';
export { TcpConnection, type TcpHandler, type TcpState } from './stack/tcp/connection';
export { TcpListener, type TcpListenerHandler } from './stack/tcp/listener';
export { TcpError } from './stack/tcp/errors';
export { LoopbackDevice } from './devices/loopback';
export { Link, type LinkOptions } from './devices/link';
export { FaultInjector, type FaultOptions } from './devices/fault';
export { Lab, type LabOptions, type FrameRecord } from './tools/lab/lab';
export { formatIpv4, parseIpv4Address, parseCidr } from './stack/wire/ipv4';
export { createNet, runSettled, type Net } from './net-api/index';
