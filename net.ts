// tcplab/net: a drop-in for `require('net')` over tcplab's default stack
// (a loopback interface at 127.0.0.1/8). Works with both
// `const net = require('tcplab/net')` and `import net from 'tcplab/net'`.

const { netModule } = require('./net-api/default') as typeof import('./net-api/default');

module.exports = netModule;
