import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.setGlobalPrefix('api');
await app.listen(0, '127.0.0.1');
const address = app.getHttpServer().address();
console.log(`listening ${address.port}`);
process.stdin.on('data', (d) => {
    if (String(d).trim() === 'quit')
        void app.close();
});
//# sourceMappingURL=main.js.map