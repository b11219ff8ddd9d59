module profefe-target

go 1.19
