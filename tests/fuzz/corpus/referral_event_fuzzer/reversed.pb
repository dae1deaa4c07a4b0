
m-1:3m-1 €Š¢º·3*accrualb
r-1p-1x x