
m-1:1m-1 €Ðê¶·3*accrualR
phonebaseen