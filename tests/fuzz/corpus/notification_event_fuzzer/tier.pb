
m-1:5m-1 €Š¢º·3*accrualº
basesilver"	qualified