import { Injectable, NotFoundException } from '@nestjs/common';

export interface Order {
  id: number;
  item: string;
  qty: number;
  total: number;
}

const PRICES: Record<string, number> = { jam: 4, tea: 3 };

@Injectable()
export class OrdersService {
  private readonly orders = new Map<number, Order>([[1, { id: 1, item: 'jam', qty: 2, total: 8 }]]);
  private nextId = 2;

  find(id: number): Order {
    const order = this.orders.get(id);
    if (!order) throw new NotFoundException(`order ${id} not found`);
    return order;
  }

  place(item: string, qty: number): Order {
    const unit = PRICES[item];
    if (unit === undefined) throw new Error(`no price for ${item}`);
    const total = unit * qty;
    const order = { id: this.nextId++, item, qty, total };
    this.orders.set(order.id, order);
    return order;
  }
}
