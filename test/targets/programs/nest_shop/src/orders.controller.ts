import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post } from '@nestjs/common';
import { OrdersService, type Order } from './orders.service.js';

export class PlaceOrder {
  item: string;
  qty: number;
}

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number): Order {
    return this.orders.find(id);
  }

  @Post()
  @HttpCode(201)
  async create(@Body() body: PlaceOrder): Promise<Order> {
    return this.orders.place(body.item, body.qty);
  }
}
