var __decorate = (this && this.__decorate) || function (decorators, target, key, desc) {
    var c = arguments.length, r = c < 3 ? target : desc === null ? desc = Object.getOwnPropertyDescriptor(target, key) : desc, d;
    if (typeof Reflect === "object" && typeof Reflect.decorate === "function") r = Reflect.decorate(decorators, target, key, desc);
    else for (var i = decorators.length - 1; i >= 0; i--) if (d = decorators[i]) r = (c < 3 ? d(r) : c > 3 ? d(target, key, r) : d(target, key)) || r;
    return c > 3 && r && Object.defineProperty(target, key, r), r;
};
import { Injectable, NotFoundException } from '@nestjs/common';
const PRICES = { jam: 4, tea: 3 };
let OrdersService = class OrdersService {
    orders = new Map([[1, { id: 1, item: 'jam', qty: 2, total: 8 }]]);
    nextId = 2;
    find(id) {
        const order = this.orders.get(id);
        if (!order)
            throw new NotFoundException(`order ${id} not found`);
        return order;
    }
    place(item, qty) {
        const unit = PRICES[item];
        if (unit === undefined)
            throw new Error(`no price for ${item}`);
        const total = unit * qty;
        const order = { id: this.nextId++, item, qty, total };
        this.orders.set(order.id, order);
        return order;
    }
};
OrdersService = __decorate([
    Injectable()
], OrdersService);
export { OrdersService };
//# sourceMappingURL=orders.service.js.map