// The socket.io server and a client of it in one program (each loads its own copy of the ws package). The
// client connects once the line `connect` comes on stdin; then it takes orders (client.mjs). The line
// `announce <text>` has the server send every client a 'news' event, and the client prints it.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { connect } from './client.mjs';

const { start } = createRequire(import.meta.url)('./server.cjs');
const { port, io } = await start();
console.log(`listening ${port}`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'connect') connect(`http://127.0.0.1:${port}`).on('news', (text) => console.log(`news ${text}`));
  else if (line.startsWith('announce ')) io.emit('news', line.slice('announce '.length));
});
