// A socket.io client: connects to a server's URL, and for each line `order <item> <qty>` on stdin sends an
// order and prints the acknowledgement; prints each 'placed' announcement. Run as a program, it connects
// to the URL it is given; imported, `connect(url)` does.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

export function connect(url) {
  const socket = io(url);
  socket.io.on('open', () => socket.io.engine.on('upgrade', (t) => console.log(`upgraded to ${t.name}`)));
  socket.on('placed', (order) => console.log(`placed ${order.qty} ${order.item}`));
  createInterface({ input: process.stdin }).on('line', async (line) => {
    const [command, item, qty] = line.split(' ');
    if (command === 'order') {
      const reply = await socket.emitWithAck('order', { item, qty: Number(qty) });
      console.log(reply.ok ? `total ${reply.total}` : `refused ${reply.error}`);
    }
  });
  return socket;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) connect(process.argv[2]);
