module re2tables

go 1.19
