// A socket.io server: clients send 'order' events and get the total back in the acknowledgement; every
// order placed is announced to all clients as 'placed' (a broadcast, which socket.io encodes once for all).
// Run as a program, it listens and prints its port; required, `start()` does.
const { createServer } = require('node:http');
const { Server } = require('socket.io');
const { quote } = require('./prices.cjs');

function start() {
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404).end();
  });
  const io = new Server(http);
  io.on('connection', (socket) => {
    socket.on('order', ({ item, qty }, ack) => {
      try {
        const total = quote(item, qty);
        ack({ ok: true, total });
        io.emit('placed', { item, qty });
      } catch (error) {
        ack({ ok: false, error: error.message });
      }
    });
  });
  return new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve({ port: http.address().port, io })));
}

module.exports = { start };

if (require.main === module) start().then(({ port }) => console.log(`listening ${port}`));
