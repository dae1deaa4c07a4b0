
a-1m-1review"sku-1(€Ðê¶·3