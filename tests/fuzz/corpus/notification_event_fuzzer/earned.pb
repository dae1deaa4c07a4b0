
m-1:2m-1 €­Æ¸·3*accrualZ
p-1x*s-1