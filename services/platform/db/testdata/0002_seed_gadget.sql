INSERT INTO gadget (tenant_id, id) VALUES ('t1', 'g1');
INSERT INTO gadget (tenant_id, id, label) VALUES ('t1', 'g2', 'Crème brûlée; 100 %');
